import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";

export interface WorkshopSecurityGroupArgs {
  /** The workshop, DNS-safe: the group is named `<workshop>-notebooks`. */
  workshop: string;
  /** Addresses allowed to SSH to every VM of the workshop (the instructor's). */
  sshCidr: pulumi.Input<string>;
  /** Addresses allowed to 443 (HTTPS). Port 80 is open to all: Let's Encrypt validates from anywhere. */
  notebookCidr: pulumi.Input<string>;
}

/**
 * One security group for every student VM of a workshop behind HTTPS: SSH from the instructor, 80
 * from anywhere (ACME HTTP-01 and the redirect), 443 from `notebookCidr`. Neutron's defaults are
 * 10 groups and 100 rules per project; a group and its rules per student stops a class at about
 * the tenth VM, one group for the workshop never does. Owned by the instructor's stack (target
 * image); student stacks read its `securityGroupId` output through `imageStack`.
 */
export class WorkshopSecurityGroup extends pulumi.ComponentResource {
  public readonly securityGroupId: pulumi.Output<string>;

  constructor(
    name: string,
    args: WorkshopSecurityGroupArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("jetstream-notebooks:vm:WorkshopSecurityGroup", name, {}, opts);
    const group = new openstack.networking.SecGroup(
      `${name}-sg`,
      {
        name: `${args.workshop}-notebooks`,
        description: `jetstream-notebooks ${args.workshop}: SSH, HTTP-01 and HTTPS for every student VM`,
      },
      { parent: this },
    );
    const rules: [string, number, pulumi.Input<string>, string][] = [
      ["ssh", 22, args.sshCidr, "SSH from the instructor"],
      ["port-80", 80, "0.0.0.0/0", "ACME HTTP-01 and the redirect to HTTPS"],
      ["port-443", 443, args.notebookCidr, "The notebook over HTTPS"],
    ];
    for (const [suffix, port, cidr, description] of rules) {
      new openstack.networking.SecGroupRule(
        `${name}-${suffix}`,
        {
          securityGroupId: group.id,
          direction: "ingress",
          ethertype: "IPv4",
          protocol: "tcp",
          portRangeMin: port,
          portRangeMax: port,
          remoteIpPrefix: cidr,
          description,
        },
        { parent: this },
      );
    }
    this.securityGroupId = group.id;
    this.registerOutputs({ securityGroupId: this.securityGroupId });
  }
}
