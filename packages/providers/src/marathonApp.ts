// The Marathon apps and group this stack sends (Marathon's v2 app definition, the fields it sets), and the
// label that marks them as this stack's.
export interface UpgradeStrategy {
    minimumHealthCapacity: number;
    maximumOverCapacity: number;
}

export interface MarathonApp {
    id: string;
    cmd: string;
    cpus: number;
    mem: number;
    instances: number;
    uris: string[];
    labels: Record<string, string>;
    container: { type: "DOCKER"; docker: { image: string; parameters: { key: string; value: string }[] } };
    upgradeStrategy?: UpgradeStrategy;
}

export interface MarathonGroup {
    id: string;
    apps: MarathonApp[];
}

/** What Marathon gives an app that names none (v0.14.2 and v1.1.1 UpgradeStrategy.empty): start the new task, then kill the old. */
export const marathonDefaultUpgradeStrategy: UpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };

/** Every app this stack makes carries its ownership id under this label. */
export const ownerLabel = "calico-stars.owner";
