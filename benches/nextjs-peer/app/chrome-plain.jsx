// The same chrome without authkit-nextjs's client components (build with PEER_PLAIN=1): the
// nav reads the session the layout passed it. Only for P7's "with and without" figure.
import Nav from './nav';

export default function Chrome({ initialAuth, children }) {
  return (
    <>
      <Nav auth={initialAuth} />
      <main>{children}</main>
    </>
  );
}
