// calicoctl's NetworkMappedProfile: a profile named by a Docker network's name is stored under the network's ID,
// and its tags are shown as network names and stored as IDs. Source: calico-containers v0.19.0,
// calicoctl/calico_ctl/profile.py class NetworkMappedProfile (_load_profile, _translate_profile,
// _translate_profile_for_datastore, _get_name_from_id, _get_id_from_name, _network_inspect).
import { Datastore, Docker, Profile } from "./datastore";
import { CommandExit, paragraph, PythonException } from "./python";

class NoDockerNetwork extends Error {
    constructor(readonly networkName: string) {
        super(networkName);
    }
}

export class NetworkMappedProfile {
    profile = new Profile("");
    private readonly idByName = new Map<string, string>();
    private readonly nameById = new Map<string, string>();

    constructor(
        private readonly datastore: Datastore,
        private readonly docker: Docker,
    ) {}

    /**
     * NetworkMappedProfile(name): the profile as named, else the one of the Docker network of that name with its
     * tags mapped to names. A KeyError (no such profile) means "Profile <P> not found." to every caller.
     */
    static async load(datastore: Datastore, docker: Docker, name: string): Promise<NetworkMappedProfile> {
        const mapped = new NetworkMappedProfile(datastore, docker);
        try {
            mapped.profile = await datastore.getProfile(name);
        } catch (error) {
            if (!(error instanceof PythonException && error.type === "KeyError")) {
                throw error;
            }
            let networkId;
            try {
                networkId = await mapped.idFromName(name);
            } catch (lookupError) {
                if (lookupError instanceof NoDockerNetwork) {
                    throw error;
                }
                throw lookupError;
            }
            mapped.profile = await mapped.translate(await datastore.getProfile(networkId), (id) =>
                mapped.nameFromId(id),
            );
        }
        return mapped;
    }

    async updateTags() {
        await this.datastore.updateTags(await this.forDatastore());
    }

    async updateRules() {
        await this.datastore.updateRules(await this.forDatastore());
    }

    /** A profile reached through a network name is written back with IDs; a tag naming no network fails. */
    async forDatastore() {
        if (this.idByName.size === 0) {
            return this.profile;
        }
        try {
            return await this.translate(this.profile, (name) => this.idFromName(name));
        } catch (error) {
            if (error instanceof NoDockerNetwork) {
                throw new CommandExit(
                    paragraph(
                        `You are referencing a Docker network (${error.networkName}) that does not exist.  Create the network first and then update this profile rule to reference it.`,
                    ),
                    1,
                );
            }
            throw error;
        }
    }

    /**
     * _translate_profile: a new Profile (so its rules' id is the mapped name) with mapped tags, and a copy.copy of
     * each rule with src_tag/dst_tag mapped. Python evaluates these one at a time, in this order.
     */
    async translate(profile: Profile, map: (name: string) => Promise<string>) {
        const translated = new Profile(await map(profile.name));
        for (const tag of profile.tags.keys()) {
            translated.tags.set(await map(tag), true);
        }
        for (const [from, to] of [
            [profile.rules.inbound, translated.rules.inbound],
            [profile.rules.outbound, translated.rules.outbound],
        ]) {
            for (const original of from) {
                const rule = original.copy();
                for (const key of ["src_tag", "dst_tag"]) {
                    if (rule.has(key)) {
                        rule.set(key, await map(rule.get(key) as string));
                    }
                }
                to.push(rule);
            }
        }
        return translated;
    }

    /** _get_name_from_id: an ID that names no network maps to itself, both ways. */
    async nameFromId(networkId: string) {
        if (!networkId) {
            return networkId;
        }
        if (!this.nameById.get(networkId)) {
            await this.inspect(networkId);
        }
        const name = this.nameById.get(networkId);
        if (name) {
            return name;
        }
        this.nameById.set(networkId, networkId);
        this.idByName.set(networkId, networkId);
        return networkId;
    }

    /** _get_id_from_name: only a Docker network's name (or an ID seen unmapped on load) maps. */
    async idFromName(name: string) {
        if (!name) {
            return name;
        }
        if (!this.idByName.get(name)) {
            await this.inspect(name);
        }
        const networkId = this.idByName.get(name);
        if (networkId) {
            return networkId;
        }
        throw new NoDockerNetwork(name);
    }

    /** _network_inspect: remembers the network's name and ID. */
    async inspect(nameOrId: string) {
        const network = await this.docker.inspectNetwork(nameOrId);
        if (network !== undefined) {
            this.idByName.set(network.Name, network.Id);
            this.nameById.set(network.Id, network.Name);
        }
    }
}
