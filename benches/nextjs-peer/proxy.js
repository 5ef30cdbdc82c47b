// authkit-nextjs's proxy (Next.js 16's name for middleware), with the README's matcher for
// "every route but Next.js's static files": like the demo, every page is under the auth
// layer, open or protected.
import { authkitProxy } from '@workos-inc/authkit-nextjs';

export default authkitProxy();

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
