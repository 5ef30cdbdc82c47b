// The peer app's build settings. Two build-time switches, for scripts/bench-pages.sh only:
//   PEER_DIST_DIR     where `next build` writes and `next start` reads (default .next), so
//                     both variants below can stand side by side;
//   PEER_PLAIN=1      the page chrome without authkit-nextjs's client components
//                     (app/chrome-plain.jsx instead of app/chrome.jsx): P7 measures the
//                     first-load JavaScript they add. Everything else is the same app.
const plain = process.env.PEER_PLAIN === '1';

/** @type {import('next').NextConfig} */
const nextConfig = {
  distDir: process.env.PEER_DIST_DIR || '.next',
  // No network at build or run time: no remote images, no optimizer downloads.
  images: { unoptimized: true },
  turbopack: {
    root: import.meta.dirname,
    resolveAlias: {
      '@chrome': plain ? './app/chrome-plain.jsx' : './app/chrome.jsx',
    },
  },
};

export default nextConfig;
