// `npm run verify:schema`: writes the committed JSON Schema of `verify --json`.
import { writeFileSync } from "fs";
import { join } from "path";
import { reportSchemaFileName, verifyReportJsonSchemaText } from "./reportSchema";

writeFileSync(join(__dirname, reportSchemaFileName), verifyReportJsonSchemaText());
