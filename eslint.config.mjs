// ESLint for every TypeScript file of the project: typescript-eslint's recommended rules (tsc checks the types).
// Layout is Prettier's (.prettierrc.json); the one rule about layout is the line length for what Prettier does not
// wrap (comments), with strings, templates, regexes and URLs exempt, as Prettier leaves those whole too.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "**/dist/", "sandbox/.state/", "test/artifacts/", ".pulumi-state/"] },
    js.configs.recommended,
    tseslint.configs.recommended,
    {
        linterOptions: { reportUnusedDisableDirectives: "error" },
        plugins: { "@stylistic": stylistic },
        rules: {
            "@stylistic/max-len": [
                "error",
                {
                    code: 120,
                    tabWidth: 4,
                    ignoreUrls: true,
                    ignoreStrings: true,
                    ignoreTemplateLiterals: true,
                    ignoreRegExpLiterals: true,
                },
            ],
            // a leading underscore marks a parameter an interface requires but this implementation does not read
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
);
