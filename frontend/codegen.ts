import type { CodegenConfig } from "@graphql-codegen/cli";

// Types come from the committed schema, never from a running server.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: {
          DateTime: "string",
          Date: "string",
          ID: "string",
          // Integer minor units as a string of digits: never a float (STYLE.md lesson 3).
          MinorUnits: "string",
          JSON: "unknown",
        },
        avoidOptionals: { field: true, inputValue: false },
      },
    },
  },
  hooks: {},
};

export default config;
