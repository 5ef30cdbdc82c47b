'use client';
// The page chrome with authkit-nextjs's client components, as the demo's with the crate's:
// AuthKitProvider (holding the session the layout read), Impersonation, and the nav reading
// the session with useAuth().
import { AuthKitProvider, Impersonation, useAuth } from '@workos-inc/authkit-nextjs/components';
import Nav from './nav';

function NavWithAuth() {
  return <Nav auth={useAuth()} />;
}

export default function Chrome({ initialAuth, children }) {
  return (
    <AuthKitProvider initialAuth={initialAuth}>
      <Impersonation />
      <NavWithAuth />
      <main>{children}</main>
    </AuthKitProvider>
  );
}
