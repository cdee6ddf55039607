// ProfileRules refresh over rules another writer stored that calicoctl itself accepts or stores but the grammar
// cannot express: read shows them as drift instead of failing, and the next update writes the declared rules
// back. Through the provider and a real sshd (test/support/loopbackSshd.ts), whose calicoctl stand-in prints the
// stored rules as `rule json` does; the rules are the table's (calicoRuleVectors.json, storedByOthers).
import assert from "node:assert";
import { outsideGrammar } from "@calico-stars/providers/calico";
import { providers } from "@calico-stars/providers";
import { closeAllConnections, configureSsh, SshHost } from "@calico-stars/providers/ssh";
import { LoopbackSshd, sshdUnavailable, startLoopbackSshd } from "../support/loopbackSshd";
import { storedByOthersVectors } from "./calicoRuleVectorTable";

describe("ProfileRules refresh over rules outside the grammar (real sshd)", function () {
    this.timeout(60000);
    let sshd: LoopbackSshd;
    let host: SshHost;
    const declared = () => ({
        host,
        profile: "frontend",
        networkId: "n1",
        tagNetworkIds: {},
        inbound: ["allow from tag frontend", "allow tcp from tag management-ui to ports 9000"],
        outbound: ["allow"],
    });
    // what v0.19.0's rule json prints for each (or, where it refuses one, the rule as a later release stores it)
    const stored = storedByOthersVectors.map(({ json, ruleUpdate }) =>
        ruleUpdate.printed === undefined ? json : JSON.parse(ruleUpdate.printed),
    );
    const shown = storedByOthersVectors.map(({ program }) => program.read);

    before(async function () {
        const missing = sshdUnavailable();
        if (missing) {
            console.log(`      skipped: ${missing}`);
            this.skip();
        }
        sshd = await startLoopbackSshd();
        host = { address: "127.0.0.1", port: sshd.port, user: "root", sudo: false };
        configureSsh(sshd.settings());
    });

    after(async function () {
        await closeAllConnections();
        await sshd?.stop();
    });

    beforeEach(function () {
        sshd.writeCluster({
            networks: {},
            nat: [],
            profiles: { frontend: { inbound_rules: stored, outbound_rules: [{ action: "allow", protocol: null }] } },
        });
    });

    it("reads them without failing, each as the table says refresh shows it", async function () {
        const { id, props } = await providers.ProfileRules.read!("n1", declared());
        assert.strictEqual(id, "n1");
        assert.deepStrictEqual(
            { inbound: props!.inbound, outbound: props!.outbound },
            { inbound: shown, outbound: [`${outsideGrammar} {"action":"allow","protocol":null}`] },
        );
    });

    it("reports them as a change from the declared rules", async function () {
        const { props } = await providers.ProfileRules.read!("n1", declared());
        const { inputs } = await providers.ProfileRules.check!(props!, declared());
        const diff = await providers.ProfileRules.diff!("n1", props!, inputs!);
        assert.deepStrictEqual({ changes: diff.changes, replaces: diff.replaces }, { changes: true, replaces: [] });
    });

    it("writes the declared rules over them on the next update, and reads those back", async function () {
        const { props } = await providers.ProfileRules.read!("n1", declared());
        const { outs } = await providers.ProfileRules.update!("n1", props!, declared());
        assert.deepStrictEqual(
            { inbound: outs!.inbound, outbound: outs!.outbound },
            { inbound: declared().inbound, outbound: declared().outbound },
        );
        assert.deepStrictEqual(sshd.cluster().profiles.frontend, {
            inbound_rules: [
                { action: "allow", src_tag: "frontend" },
                { action: "allow", protocol: "tcp", src_tag: "management-ui", dst_ports: [9000] },
            ],
            outbound_rules: [{ action: "allow" }],
        });
        const { props: refreshed } = await providers.ProfileRules.read!("n1", declared());
        assert.deepStrictEqual(refreshed!.inbound, declared().inbound);
    });
});
