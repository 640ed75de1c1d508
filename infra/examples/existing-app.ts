/**
 * An example: the webhook platform inside a team's own CDK app, beside what the team already has (a hosted zone, a
 * pager topic, its own roles), with its image from the team's registry. `test/infra/example-app.test.ts` synthesizes
 * it as `cdk` would: `npx cdk synth --app "node infra/examples/existing-app.ts"`.
 *
 * In your app, import it from your checkout of this repository (README, "The platform in your own CDK app"):
 *   import { WebhookPlatform } from "./vendor/webhook-platform/infra/index.ts";
 */
import { App, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { WebhookPlatform } from "../index.ts";

/** The team's existing stack: its zone and pager were there before the platform. */
class PaymentsStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", {
      hostedZoneId: "Z04512EXAMPLE",
      zoneName: "payments.example.com",
    });
    const pager = new sns.Topic(this, "Pager", { displayName: "Payments on-call" });

    const webhooks = new WebhookPlatform(this, "Webhooks", {
      domainName: "webhooks.payments.example.com",
      hostedZone: zone,
      name: "payments-webhooks",
      // Built and pushed by the team's pipeline for the same architecture.
      image: ecs.ContainerImage.fromEcrRepository(
        ecr.Repository.fromRepositoryName(this, "Images", "webhook-platform"),
        "v1.4.0",
      ),
      cpuArchitecture: "arm64",
      workerTaskSize: { cpu: 1024, memoryLimitMiB: 2048 },
      minWorkers: 2,
      maxWorkers: 20,
      deliveryTimeout: Duration.seconds(15),
      adminCidrs: ["203.0.113.0/24"],
      waf: true,
      alarmTopic: pager,
    });

    // What the platform made is the team's to wire like any construct: their support role reads delivery history.
    const support = new iam.Role(this, "Support", { assumedBy: new iam.AccountRootPrincipal() });
    webhooks.storage.events.grantReadData(support);
    new CfnOutput(this, "WebhooksUrl", { value: webhooks.url });
  }
}

const app = new App();
new PaymentsStack(app, "Payments", { env: { region: "eu-west-1" } });
