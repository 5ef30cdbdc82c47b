// The demo's `<GuardedRoute path="/protected/about" view=AboutPage />`.
import { withAuth } from '@workos-inc/authkit-nextjs';
import AboutContent from '../../about-content';

export default async function ProtectedAboutPage() {
  await withAuth({ ensureSignedIn: true });
  return <AboutContent />;
}
