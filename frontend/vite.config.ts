/// <reference types="vitest/config" />
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    // The app serves the build from app/static (git-ignored); see docs/frontend.md.
    outDir: "../app/static",
    emptyOutDir: true,
    // GraphiQL brings the Monaco editor (several MB); it is its own entry, loaded only there.
    chunkSizeWarningLimit: 6000,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
      onwarn(warning, warn) {
        // GraphiQL's React Compiler output starts modules with "use no memo": harmless here.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") {
          return;
        }
        warn(warning);
      },
    },
  },
  optimizeDeps: {
    // The dev server serves Monaco's workers unbundled: the CommonJS modules that GraphQL's
    // worker imports must be pre-bundled to load as ESM there (the build bundles them anyway).
    include: ["monaco-graphql > picomatch-browser", "graphql-language-service > nullthrows"],
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      // Queries over HTTP and subscriptions over graphql-ws both go to the API. The server
      // accepts websockets from its own origin only: present the API's origin, not Vite's.
      "/graphql": { target: api, ws: true, changeOrigin: true, headers: { origin: api } },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
