// The README's "Initiate login URI" route, at the demo's path and with its `return_to`.
import { getSignInUrl } from '@workos-inc/authkit-nextjs';
import { redirect } from 'next/navigation';

export const GET = async (request) => {
  const returnTo = request.nextUrl.searchParams.get('return_to') || '/';
  redirect(await getSignInUrl({ returnTo: returnTo.startsWith('/') ? returnTo : '/' }));
};
