// calicoctl 0.x as the program speaks it: the profile-rule grammar (text and JSON), and the commands that
// read and write a profile's rules.
export { RuleSyntaxError } from "../errors";
export type { ProfileRulesJson, RuleJson } from "./calicoctl";
export {
    canonicalRule,
    formatRule,
    isValidTag,
    outsideGrammar,
    parseRule,
    ruleFromJson,
    ruleTags,
    ruleToJson,
    storedRuleText,
} from "./rule";
export type { CalicoRule } from "./rule";
