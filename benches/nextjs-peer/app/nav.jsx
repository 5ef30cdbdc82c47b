'use client';
// The demo's `Nav` (app/src/app.rs) with the same markup: pages, then the account (the
// user, the organization switcher, sign out) or the sign-in and sign-up links. `auth` is
// the session as the client sees it: from useAuth() in app/chrome.jsx, from the layout's
// props in app/chrome-plain.jsx.
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { listOrganizationsAction, signOutAction, switchOrganizationAction } from './actions';

function OrganizationSwitcher({ auth }) {
  // Loaded in the browser after hydration, as the demo's <OrganizationSwitcher>.
  const [organizations, setOrganizations] = useState(null);
  useEffect(() => {
    if (!auth.sessionId) return;
    listOrganizationsAction().then(
      (list) => setOrganizations({ list }),
      () => setOrganizations({ error: true }),
    );
  }, [auth.sessionId]);
  let select;
  if (organizations === null) {
    select = (
      <select disabled>
        <option>…</option>
      </select>
    );
  } else if (organizations.error) {
    select = (
      <select disabled>
        <option>unavailable</option>
      </select>
    );
  } else {
    select = (
      <select name="organization_id" defaultValue={auth.organizationId ?? undefined}>
        {organizations.list.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    );
  }
  return (
    <form action={switchOrganizationAction} className="authkit-organization-switcher">
      <label>
        <span className="authkit-label">Organization</span>
        {select}
      </label>
      <button type="submit">Switch</button>
    </form>
  );
}

export default function Nav({ auth }) {
  const page = usePathname();
  // Set once the page has hydrated, as the demo's data-hydrated.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const returnTo = encodeURIComponent(page || '/');
  return (
    <header className="nav" data-hydrated={String(hydrated)}>
      <Link href="/" className="brand">
        Notebook
      </Link>
      <nav>
        <Link href="/profile">Profile</Link>
        <Link href="/dashboard">Dashboard</Link>
        <Link href="/protected">Protected</Link>
        <Link href="/data">Data</Link>
        <Link href="/features">Features</Link>
        <Link href="/team">Team</Link>
      </nav>
      <div className="account">
        {auth.user ? (
          <>
            <span className="who" id="signed-in-as">
              {auth.user.email}
            </span>
            <OrganizationSwitcher auth={auth} />
            <form action={signOutAction} className="authkit-sign-out">
              <input type="hidden" name="return_to" value="/" />
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : (
          <>
            <a href={`/auth/sign-in?return_to=${returnTo}`} rel="external" className="authkit-sign-in">
              Sign in
            </a>
            <a href={`/auth/sign-up?return_to=${returnTo}`} rel="external" className="authkit-sign-up">
              Sign up
            </a>
          </>
        )}
      </div>
    </header>
  );
}
