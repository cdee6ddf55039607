// The table of calicoctl v0.19.0's answers (test/unit/calicoRuleVectors.json), as types and as the outputs it
// implies for a profile "vec" that held no rules before the command.
import vectors from "./calicoRuleVectors.json";

export interface Outcome {
    exit: number;
    stdout: string;
    stderrLast?: string;
    stored?: string;
    show?: string;
    showFailure?: { exit: number; stdout: string };
    printed?: string;
    jsonFailure?: { exit: number; stdout: string };
}

export interface RuleTextVector {
    rule: string;
    ruleAdd: Outcome;
    program: { text: string; json: Record<string, unknown> } | { refused: string };
    ruleUpdate?: Outcome;
    why?: string;
}

export interface StoredByOthersVector {
    json: unknown;
    ruleUpdate: Outcome;
    program: { read: string };
}

export const ruleTextVectors = vectors.ruleText as RuleTextVector[];
export const storedByOthersVectors = vectors.storedByOthers as StoredByOthersVector[];

export const vectorProfile = "vec";

/** The etcd value of the profile's rules with `rule` (as stored) its only inbound rule, or with none. */
export function storedRules(rule?: string): string {
    return `{"id": "${vectorProfile}", "inbound_rules": [${rule ?? ""}], "outbound_rules": []}`;
}

/** `rule show` with `line` the only inbound rule. */
export function shownRules(line: string): string {
    return `Inbound rules:\n   1 ${line}\nOutbound rules:\n`;
}

/** `rule json` with `printed` the only inbound rule. */
export function printedRules(printed: string): string {
    return `{\n  "id": "${vectorProfile}", \n  "inbound_rules": [\n${printed}\n  ], \n  "outbound_rules": []\n}\n\n`;
}

/** `rule update`'s input for one inbound rule, as the program sends it (JSON.stringify). */
export function updateInput(rule: unknown): string {
    return JSON.stringify({ id: vectorProfile, inbound_rules: [rule], outbound_rules: [] });
}
