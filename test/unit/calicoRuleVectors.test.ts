// The table of calicoctl v0.19.0's answers (calicoRuleVectors.json) against the program's grammar. The same rows
// run against the sandbox's calicoctl stand-in in test/sandbox/calicoctl.test.ts, so the grammar, the stand-in
// and the release cannot drift apart. Stored and printed JSON is compared parsed: its key order is Python 2's.
import assert from "node:assert";
import { canonicalRule, parseRule, RuleSyntaxError, ruleToJson, storedRuleText } from "@calico-stars/providers/calico";
import { Outcome, ruleTextVectors, shownRules, storedByOthersVectors } from "./calicoRuleVectorTable";

function refusal(text: string): string {
    try {
        parseRule(text);
    } catch (error) {
        if (error instanceof RuleSyntaxError) return error.message;
        throw error;
    }
    return assert.fail(`the grammar accepts ${JSON.stringify(text)}`);
}

/** The rule as calicoctl stored it and printed it, parsed, and its rule show line. */
function written(outcome: Outcome): { stored: unknown; printed: unknown; show?: string } {
    assert.ok(
        outcome.stored !== undefined && outcome.printed !== undefined,
        `calicoctl wrote nothing: ${outcome.stdout}`,
    );
    return { stored: JSON.parse(outcome.stored), printed: JSON.parse(outcome.printed), show: outcome.show };
}

describe("calicoRule against calicoctl v0.19.0's answers", () => {
    it("has at least 60 rule strings", () => {
        assert.ok(ruleTextVectors.length >= 60, String(ruleTextVectors.length));
    });

    for (const vector of ruleTextVectors) {
        const { rule, ruleAdd, program, ruleUpdate, why } = vector;
        const calicoctlAccepts = ruleAdd.stored !== undefined;

        if ("text" in program) {
            describe(`${JSON.stringify(rule)}, which the grammar accepts`, () => {
                it(`spells it ${JSON.stringify(program.text)}`, () => {
                    assert.deepStrictEqual(canonicalRule(rule), program.text);
                });

                it("writes the JSON of the table, keys in pprint's order", () => {
                    const json = ruleToJson(parseRule(rule));
                    assert.deepStrictEqual(json, program.json);
                    assert.deepStrictEqual(Object.keys(json), Object.keys(program.json));
                });

                it("is stored, shown and printed by rule update as the grammar spells it", () => {
                    assert.ok(ruleUpdate !== undefined && ruleUpdate.exit === 0, ruleUpdate?.stdout);
                    const { stored, printed, show } = written(ruleUpdate);
                    assert.deepStrictEqual(
                        { stored, printed, show },
                        { stored: program.json, printed: program.json, show: program.text },
                    );
                });

                if (calicoctlAccepts) {
                    it("is what rule add stores and shows too", () => {
                        const { stored, printed, show } = written(ruleAdd);
                        assert.deepStrictEqual(
                            { stored, printed, show },
                            { stored: program.json, printed: program.json, show: program.text },
                        );
                    });
                } else {
                    it("says why, as v0.19.0's rule add refuses it", () => {
                        assert.ok(why !== undefined, `v0.19.0 refuses it: ${ruleAdd.stdout}`);
                    });
                }
            });
        } else {
            describe(`${JSON.stringify(rule)}, which the grammar refuses`, () => {
                it(`says so, naming the rule: ${program.refused}`, () => {
                    const message = refusal(rule);
                    assert.ok(message.includes(JSON.stringify(rule)), message);
                    assert.ok(message.includes(program.refused), message);
                });

                if (calicoctlAccepts) {
                    it("says why, as v0.19.0's rule add accepts it", () => {
                        assert.ok(why !== undefined, `v0.19.0 stores ${ruleAdd.stored}`);
                    });
                } else {
                    it("is refused by v0.19.0's rule add too", () => {
                        assert.notStrictEqual(ruleAdd.exit, 0, ruleAdd.stdout);
                    });
                }
            });
        }
    }

    describe("rules stored by other writers, as refresh shows what rule json prints", () => {
        for (const { json, ruleUpdate, program } of storedByOthersVectors) {
            it(`shows ${JSON.stringify(json)} as ${JSON.stringify(program.read)}`, () => {
                // where v0.19.0 refuses the rule, a later 0.x release may store it, and rule json print it as sent
                const printed = ruleUpdate.printed === undefined ? json : JSON.parse(ruleUpdate.printed);
                assert.deepStrictEqual(storedRuleText(printed), program.read);
            });
        }

        it("shows the stored rules the grammar can express exactly as v0.19.0's rule show does", () => {
            const expressible = storedByOthersVectors.filter(
                ({ ruleUpdate, program }) => ruleUpdate.show !== undefined && !program.read.startsWith("["),
            );
            assert.ok(expressible.length >= 5);
            for (const { ruleUpdate, program } of expressible) {
                assert.deepStrictEqual(shownRules(program.read), shownRules(ruleUpdate.show!));
            }
        });
    });
});
