// ESLint for every TypeScript file of the project: typescript-eslint's recommended rules (tsc checks the types).
// Layout is Prettier's (.prettierrc.json), so no rule here is about formatting.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "**/dist/", "sandbox/.state/", "test/artifacts/", ".pulumi-state/"] },
    js.configs.recommended,
    tseslint.configs.recommended,
    {
        linterOptions: { reportUnusedDisableDirectives: "error" },
        rules: {
            // a leading underscore marks a parameter an interface requires but this implementation does not read
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
);
