import { getSignUpUrl } from '@workos-inc/authkit-nextjs';
import { redirect } from 'next/navigation';

export const GET = async (request) => {
  const returnTo = request.nextUrl.searchParams.get('return_to') || '/';
  redirect(await getSignUpUrl({ returnTo: returnTo.startsWith('/') ? returnTo : '/' }));
};
