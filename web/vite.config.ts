// The web UI's build: `vite build web` (root = web/) writes web/dist, which `strata serve` serves at `/`.
// Everything is bundled (no CDN, no web fonts), so the page makes no request outside its server.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No source maps in the package (1.2 MB); `npx vite web` serves the sources for debugging.
    sourcemap: false,
    // Assets stay files, never data: URIs, so a strict Content-Security-Policy can serve the page.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite web` during development: the API comes from a `strata serve` on 8080.
    proxy: { "/api": "http://127.0.0.1:8080", "/v1": "http://127.0.0.1:8080" },
  },
});
