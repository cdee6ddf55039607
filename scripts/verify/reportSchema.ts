// The JSON Schema (draft 2020-12) of `verify --json`, generated from the report's zod schema with zod 4's
// z.toJSONSchema and committed beside this file (npm run verify:schema writes it; a unit test keeps them equal).
import { z } from "zod";
import { verifyReportSchema } from "@calico-stars/providers/verify";

export const reportSchemaFileName = "verifyReport.schema.json";

/** The JSON Schema text as committed: two-space indent, trailing newline. */
export function verifyReportJsonSchemaText(): string {
    const schema = z.toJSONSchema(verifyReportSchema, { target: "draft-2020-12" });
    return `${JSON.stringify({ ...schema, title: "calico-stars verify report" }, null, 2)}\n`;
}
