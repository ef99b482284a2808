// graphql-codegen: typed results and variables for src/operations.graphql, from the served
// schema (`npm run schema`: jinlin export-schema > schema.graphql). The three custom
// scalars travel as strings (docs/api-conventions.md); strictScalars fails the run if a
// new one is ever left unmapped instead of typing it `any`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: "src/**/*.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        strictScalars: true,
        scalars: { Decimal: "string", DateTime: "string", Date: "string" },
        useTypeImports: true,
      },
    },
  },
};
export default config;
