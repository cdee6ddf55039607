// `npm run verify -- --plan`: each managed profile's rules read where the program writes them, as refresh reads them
// (the ProfileRules provider's read: `calicoctl profile <P> rule json` over SSH), held against the stack's policy
// (plan.ts), printed, and drawn when asked.
import { providers, ProfileRulesOutputs } from "@calico-stars/providers";
import { colorWanted } from "@calico-stars/providers/verify";
import { networkHostOf, StarsConfig } from "../../components/config";
import { renderPlanSvg } from "./graphSvg";
import { pictureFiles, pictureLines, writePicture } from "./picture";
import { ClusterRules, formatPlan, planJson, planOf, StoredProfile } from "./plan";

/** Every managed network's profile as the cluster holds it now; a profile that does not exist is left out. */
async function readClusterRules(config: StarsConfig): Promise<ClusterRules> {
    const host = networkHostOf(config);
    const read = providers.ProfileRules.read!;
    const profiles = await Promise.all(
        config.networks.map(async ({ name }) => {
            // read() needs the host and the profile's name; the rest of the props it reads from the cluster
            const known = { host, profile: name, etcdAuthority: config.etcdAuthority } as ProfileRulesOutputs;
            const found = await read(name, known);
            return found.id === "" || found.props === undefined
                ? []
                : [[name, { inbound: found.props.inbound, outbound: found.props.outbound }] as [string, StoredProfile]];
        }),
    );
    return new Map(profiles.flat());
}

export interface PlanOptions {
    json: boolean;
    /** Where to draw the plan, when asked. */
    picture?: string;
    /** Says a line on stderr. */
    say(line: string): void;
}

/** Prints the plan (or its JSON) and returns its exit status. */
export async function runPlan(config: StarsConfig, options: PlanOptions): Promise<number> {
    const plan = planOf(config, await readClusterRules(config));
    const written =
        options.picture === undefined
            ? []
            : pictureLines(await writePicture(renderPlanSvg(plan), pictureFiles(options.picture)));
    if (options.json) {
        process.stdout.write(planJson(plan));
        written.forEach(options.say);
    } else {
        process.stdout.write(formatPlan(plan, { color: colorWanted(process.stdout, process.env) }));
        if (written.length > 0) {
            process.stdout.write(`\n${written.join("\n")}\n`);
        }
    }
    return plan.exitCode;
}
