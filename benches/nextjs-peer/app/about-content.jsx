// The demo's `AboutPage` (app/src/app.rs), word for word: served open at /about and
// behind withAuth({ ensureSignedIn: true }) at /protected/about.
export default function AboutContent() {
  return (
    <>
      <h1>About this notebook</h1>
      <p>
        A Leptos app on axum, signed in with WorkOS AuthKit through authkit-leptos. Each page shows one
        example of the withAuth documentation.
      </p>
      <ul>
        <li>Sessions are iron-sealed cookies a Next.js app can read.</li>
        <li>Refreshes are shared by every request that needs one.</li>
        <li>Everything runs on a built-in WorkOS emulator.</li>
      </ul>
    </>
  );
}
