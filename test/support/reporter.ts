// Mocha's spec output, closed by a plain "N passed, N failed, N skipped" line that CI reads.
import * as Mocha from "mocha";

class SpecWithSummary extends Mocha.reporters.Spec {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
        super(runner, options);
        runner.once("end", () => {
            const { passes, failures, pending } = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
            console.log(`tests: ${passes} passed, ${failures} failed, ${pending} skipped`);
        });
    }
}

export = SpecWithSummary;
