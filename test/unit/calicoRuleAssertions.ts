// Assertions shared by the rule grammar's tests.
import assert from "node:assert";
import { parseRule, ruleFromJson, RuleSyntaxError } from "@calico-stars/providers/calico";

/** Runs `action`, which must throw a RuleSyntaxError, and returns its message. */
export function syntaxErrorMessage(action: () => unknown): string {
    try {
        action();
    } catch (error) {
        if (error instanceof RuleSyntaxError) return error.message;
        throw error;
    }
    return assert.fail("expected a RuleSyntaxError, but nothing was thrown");
}

/** Asserts that `text` is rejected with a message quoting the whole rule and each given fragment. */
export function assertRuleRejected(text: string, ...fragments: string[]): void {
    const message = syntaxErrorMessage(() => parseRule(text));
    for (const expected of [JSON.stringify(text), ...fragments]) {
        assert.ok(message.includes(expected), `message ${JSON.stringify(message)} should contain ${expected}`);
    }
}

export function assertJsonRejected(value: unknown, fragment: string): void {
    const message = syntaxErrorMessage(() => ruleFromJson(value));
    assert.ok(message.includes(fragment), `message ${JSON.stringify(message)} should contain ${fragment}`);
}
