// The HTML document and the page chrome, as the demo's `shell` + `App`: the session is
// read on the server (withAuth) and handed to the client components without the access
// token, as authkit-nextjs's README recommends ("Optimizing with Server-Side Auth Data").
import { withAuth } from '@workos-inc/authkit-nextjs';
import Chrome from '@chrome';

export const metadata = { title: 'Notebook · authkit-leptos demo' };

export default async function RootLayout({ children }) {
  // eslint-disable-next-line no-unused-vars
  const { accessToken, ...initialAuth } = await withAuth();
  return (
    <html lang="en">
      <body>
        <Chrome initialAuth={initialAuth}>{children}</Chrome>
      </body>
    </html>
  );
}
