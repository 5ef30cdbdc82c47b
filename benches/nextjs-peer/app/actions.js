'use server';
// The nav's server actions: the demo's sign_out, list_organizations and
// switch_organization server functions, written with authkit-nextjs.
import { getWorkOS, signOut, switchToOrganization, withAuth } from '@workos-inc/authkit-nextjs';

export async function signOutAction(form) {
  const returnTo = String(form.get('return_to') || '/');
  await signOut({ returnTo: returnTo.startsWith('/') ? returnTo : '/' });
}

export async function listOrganizationsAction() {
  const { user } = await withAuth();
  if (!user) return [];
  const workos = getWorkOS();
  const memberships = await workos.userManagement.listOrganizationMemberships({
    userId: user.id,
    statuses: ['active'],
  });
  return Promise.all(
    memberships.data.map(async (m) => {
      const o = await workos.organizations.getOrganization(m.organizationId);
      return { id: o.id, name: o.name };
    }),
  );
}

export async function switchOrganizationAction(form) {
  await switchToOrganization(String(form.get('organization_id')));
}
