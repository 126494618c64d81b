/**
 * Monaco's language services run in web workers, bundled by Vite from these `?worker` imports.
 * (graphiql/setup-workers/vite does the same from inside node_modules, which Vite's dev-server
 * dependency optimizer cannot load; here they are part of our own source.)
 */

import EditorWorker from "monaco-editor/esm/vs/editor/editor.worker.js?worker";
import JsonWorker from "monaco-editor/esm/vs/language/json/json.worker.js?worker";
import GraphQLWorker from "monaco-graphql/esm/graphql.worker.js?worker";

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    switch (label) {
      case "json":
        return new JsonWorker();
      case "graphql":
        return new GraphQLWorker();
      default:
        return new EditorWorker();
    }
  },
};
