import * as command from "@pulumi/command";
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderUserData } from "../lib/cloudInit";
import type { DataSource } from "../lib/courseData";
import { findFlavor } from "../lib/flavors";
import { flavorChangeScript, flavorRecordScript, readinessScript } from "../lib/readiness";
import { vmUser } from "../lib/urls";

export interface JetstreamVmArgs {
  /** Workshop name: instance metadata. */
  workshop: string;
  /** Student name: instance metadata. */
  student: string;
  /**
   * What the instance, key pair, port and own security group are called in OpenStack; the instance's
   * name is its DNS label. Default: the component's name. Unique per allocation (see
   * lib/physicalName.ts); a change replaces the key pair and with it the VM.
   */
  physicalName?: string;
  /** Last day of the workshop, YYYY-MM-DD: instance metadata, so forgotten VMs can be found. */
  expires: pulumi.Input<string>;
  /**
   * Jetstream2 flavor name, such as `m3.small`. A change resizes the VM (it reboots) and re-runs
   * the readiness gate; a change to a flavor with a smaller root disk is refused.
   */
  flavor: string;
  /** Glance image name; Jetstream2's `Featured-Ubuntu24` already has Docker. */
  vmImage: pulumi.Input<string>;
  /** Network to attach to, by name; each allocation has `auto_allocated_network`. */
  network: pulumi.Input<string>;
  /** Pool the floating IP comes from; Jetstream2's is `public`. */
  floatingIpPool: pulumi.Input<string>;
  /** Addresses allowed to SSH in, such as the instructor's `203.0.113.7/32`. Nothing else may. */
  sshCidr: pulumi.Input<string>;
  /** Addresses allowed to `publicPorts`; `0.0.0.0/0` for a classroom on unknown networks. */
  notebookCidr: pulumi.Input<string>;
  /**
   * The VM ports students' browsers reach, opened to `notebookCidr`: 80 and 443 behind the HTTPS
   * proxy (80 answers Let's Encrypt's HTTP-01 challenge and redirects), or the notebook's own
   * published port with TLS off. Nothing else but SSH is open.
   */
  publicPorts: number[];
  /**
   * Those of `publicPorts` opened to the whole internet whatever `notebookCidr` says: 80 for
   * Let's Encrypt's HTTP-01 validation, which comes from unpublished addresses. Default none.
   */
  worldPorts?: number[];
  /**
   * A security group to use instead of the VM's own: the workshop's, shared by every student (see
   * WorkshopSecurityGroup). Then `sshCidr`, `notebookCidr`, `publicPorts` and `worldPorts` are
   * that group's business and unused here.
   */
  securityGroupId?: pulumi.Input<string>;
  /** The digest-pinned image the VM pulls while it boots. */
  imageRef: pulumi.Input<string>;
  /**
   * A public key (OpenSSH line) authorized besides the stack's own generated key, such as the
   * instructor's. Applied by the user data, so only when the VM is created.
   */
  extraSshPublicKey?: pulumi.Input<string>;
  /**
   * Shared data (`dataUrl`) the VM fetches once while it boots, checked against its sha256; a
   * mismatch fails the readiness gate. Applied by the user data, so only when the VM is created.
   */
  data?: DataSource;
  /**
   * `active` (default) or `shelved_offloaded`: a shelved VM costs no SUs and keeps its disk, port and
   * floating IP. A change is an in-place power action; it neither replaces the VM nor re-runs the
   * readiness gate (whose triggers leave it out), so a shelved stack's up dials nothing.
   */
  powerState?: "active" | "shelved_offloaded";
}

/**
 * A Jetstream2 VM for one student's notebook: its own SSH key and host key, its own security group,
 * an instance on the allocation's network through an explicit port, a floating IP, and a readiness
 * gate that waits over SSH for cloud-init to finish. Resources used here exist in both
 * @pulumi/openstack 3.x and 5.x (v5 removed compute.FloatingIp*, compute.SecGroup).
 *
 * The user data and the boot image are set once: later changes to them are ignored (a new boot image
 * would rebuild the VM in place, wiping its disk and the student's work). To apply them
 * deliberately, replace the instance: `pulumi up --replace <instance URN>`, after saving the
 * student's work. The instance is deleted before its replacement is created: Nova refuses to
 * attach the stack's port to a second server while the first still holds it.
 */
export class JetstreamVm extends pulumi.ComponentResource {
  /** The floating IP: where the notebook and SSH answer. */
  public readonly publicIp: pulumi.Output<string>;
  /** The instance's name, the first label of its Jetstream2 DNS name. */
  public readonly instanceName: pulumi.Output<string>;
  /** The stack's SSH private key (OpenSSH format), a secret. */
  public readonly sshPrivateKey: pulumi.Output<string>;
  /** The VM's SSH host public key (`ssh-ed25519 ...`), for verifying the host. */
  public readonly hostPublicKey: pulumi.Output<string>;
  /** The login user (`ubuntu`). */
  public readonly user: pulumi.Output<string>;
  /**
   * The readiness gate: resolves once cloud-init finished and Docker answers. Resources that touch
   * the VM's Docker engine must `dependsOn` it.
   */
  public readonly ready: command.remote.Command;
  /** The instance: what the VM's Docker resources are deleted with. */
  public readonly instance: openstack.compute.Instance;

  constructor(name: string, args: JetstreamVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("jetstream-notebooks:vm:JetstreamVm", name, {}, opts);
    const physical = args.physicalName ?? name;

    // Pulumi's own key: the readiness gate and the docker provider log in with it.
    const loginKey = new tls.PrivateKey(
      `${name}-login`,
      { algorithm: "ED25519" },
      { parent: this },
    );
    // The VM's host key, generated here so every connection verifies the host it reaches.
    const hostKey = new tls.PrivateKey(`${name}-host`, { algorithm: "ED25519" }, { parent: this });

    const keypair = new openstack.compute.Keypair(
      `${name}-key`,
      { name: physical, publicKey: loginKey.publicKeyOpenssh.apply((k) => k.trim()) },
      { parent: this },
    );

    const securityGroupId =
      args.securityGroupId !== undefined
        ? pulumi.output(args.securityGroupId)
        : this.ownSecurityGroup(name, physical, args);

    const network = openstack.networking.getNetworkOutput({ name: args.network }, { parent: this });
    // An explicit port carries the security group and is what the floating IP attaches to, so
    // nothing has to look the instance's port up after the fact.
    const port = new openstack.networking.Port(
      `${name}-port`,
      {
        name: physical,
        networkId: network.id,
        securityGroupIds: [securityGroupId],
        adminStateUp: true,
      },
      { parent: this },
    );

    const userData = pulumi
      .all([
        args.imageRef,
        args.expires,
        hostKey.privateKeyOpenssh,
        hostKey.publicKeyOpenssh,
        args.extraSshPublicKey,
      ])
      .apply(([imageRef, expires, hostPrivate, hostPublic, extra]) =>
        renderUserData({
          workshop: args.workshop,
          student: args.student,
          expires,
          imageRef,
          hostKey: { privateKeyOpenssh: hostPrivate, publicKeyOpenssh: hostPublic },
          extraAuthorizedKeys: extra ? [extra] : [],
          loginUser: vmUser,
          data: args.data,
        }),
      );

    // A resize to a smaller root disk is refused before the instance is touched: the guard
    // remembers the flavor it last saw (its stdout) and compares.
    const disk = findFlavor(args.flavor)?.diskGb;
    if (disk === undefined)
      throw new Error(`[flavor] unknown flavor ${JSON.stringify(args.flavor)}`);
    const flavorGuard = new command.local.Command(
      `${name}-flavor`,
      {
        create: flavorRecordScript(),
        update: flavorChangeScript(),
        environment: { JN_FLAVOR: args.flavor, JN_DISK_GB: String(disk) },
      },
      { parent: this },
    );

    const instance = new openstack.compute.Instance(
      `${name}-vm`,
      {
        name: physical,
        flavorName: args.flavor,
        imageName: args.vmImage,
        keyPair: keypair.name,
        networks: [{ port: port.id }],
        powerState: args.powerState ?? "active",
        // Holds the host private key: a secret in state.
        userData: pulumi.secret(userData),
        metadata: {
          workshop: args.workshop,
          student: args.student,
          expires: args.expires,
          "managed-by": "jetstream-notebooks",
        },
      },
      {
        parent: this,
        // A changed user data (a new image, an added key) would replace the VM, and a changed boot
        // image (`vmImage`, such as the next Featured-Ubuntu24 build) would rebuild it in place;
        // either loses the work on its disk: see the class comment for applying them deliberately. A new flavor resizes in
        // place (the VM reboots) and is not ignored.
        ignoreChanges: ["userData", "imageName"],
        additionalSecretOutputs: ["userData"],
        // The explicit port still carries the old server's device_id until that server is gone.
        deleteBeforeReplace: true,
        dependsOn: [flavorGuard],
      },
    );

    const floatingIp = new openstack.networking.FloatingIp(
      `${name}-ip`,
      { pool: args.floatingIpPool, description: pulumi.interpolate`jetstream-notebooks ${name}` },
      { parent: this },
    );
    const association = new openstack.networking.FloatingIpAssociate(
      `${name}-ip`,
      { floatingIp: floatingIp.address, portId: port.id },
      // The port must be bound to a running instance before the address answers.
      { parent: this, dependsOn: [instance] },
    );

    this.ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: {
          host: floatingIp.address,
          user: vmUser,
          privateKey: loginKey.privateKeyOpenssh,
          hostKey: hostKey.publicKeyOpenssh.apply((k) => k.trim()),
          // A new VM boots for a minute or two before sshd answers: keep dialling for ~10 minutes.
          dialErrorLimit: 60,
          perDialTimeout: 10,
        },
        // Independent of the image: a rebuilt image rolls the container, never the gate.
        create: readinessScript(),
        // A replaced VM (a new instance id) and a resized one (it rebooted) are waited for again.
        triggers: [instance.id, args.flavor],
      },
      // The SDK already keeps `connection` (with the private key) secret.
      { parent: this, dependsOn: [association] },
    );

    this.instance = instance;
    this.publicIp = floatingIp.address;
    this.instanceName = instance.name;
    this.sshPrivateKey = pulumi.secret(loginKey.privateKeyOpenssh);
    this.hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());
    this.user = pulumi.output(vmUser);
    this.registerOutputs({
      publicIp: this.publicIp,
      instanceName: this.instanceName,
      sshPrivateKey: this.sshPrivateKey,
      hostPublicKey: this.hostPublicKey,
      user: this.user,
    });
  }

  /** The VM's own group: SSH from `sshCidr`, `publicPorts` from `notebookCidr` (or the world). */
  private ownSecurityGroup(
    name: string,
    physical: string,
    args: JetstreamVmArgs,
  ): pulumi.Output<string> {
    const secGroup = new openstack.networking.SecGroup(
      `${name}-sg`,
      {
        name: physical,
        description: pulumi.interpolate`jetstream-notebooks ${args.workshop}/${args.student}: SSH and the notebook`,
      },
      { parent: this },
    );
    // The group keeps Neutron's default egress rules: the VM pulls images and packages.
    new openstack.networking.SecGroupRule(
      `${name}-ssh`,
      {
        securityGroupId: secGroup.id,
        direction: "ingress",
        ethertype: "IPv4",
        protocol: "tcp",
        portRangeMin: 22,
        portRangeMax: 22,
        remoteIpPrefix: args.sshCidr,
        description: "SSH from the instructor",
      },
      { parent: this },
    );
    for (const port of args.publicPorts) {
      new openstack.networking.SecGroupRule(
        `${name}-port-${port}`,
        {
          securityGroupId: secGroup.id,
          direction: "ingress",
          ethertype: "IPv4",
          protocol: "tcp",
          portRangeMin: port,
          portRangeMax: port,
          remoteIpPrefix: (args.worldPorts ?? []).includes(port) ? "0.0.0.0/0" : args.notebookCidr,
          description: port === 80 ? "ACME HTTP-01 and the redirect to HTTPS" : "The notebook",
        },
        { parent: this },
      );
    }

    return secGroup.id;
  }
}
