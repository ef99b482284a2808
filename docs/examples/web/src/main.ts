// The example app: sign in, show a campaign's progress, follow it live, record a gift.
// Every result and variable is typed by graphql-codegen from the served schema; amounts,
// times and days are strings (Decimal, DateTime, Date), never numbers.
import type { ApolloClient } from "@apollo/client";

import { makeClient, type Session } from "./client";
import {
  CampaignDocument,
  CampaignUpdatedDocument,
  type CampaignProgressFieldsFragment,
  RecordDonationDocument,
  type RecordDonationInput,
  SignInDocument,
} from "./generated/graphql";

export async function signIn(
  client: ApolloClient,
  session: Session,
  username: string,
  password: string,
): Promise<string | null> {
  const { data } = await client.mutate({ mutation: SignInDocument, variables: { username, password } });
  const login = data?.login;
  if (!login?.token) {
    const first = login?.errors[0];
    throw new Error(first ? `${first.code}: ${first.message}` : "login failed");
  }
  session.token = login.token;
  return login.token;
}

/** "1234567.5" -> "1,234,567.50" by string work alone: no fen is lost to floats. */
export function yuan(amount: string): string {
  const [whole = "0", fraction = ""] = amount.split(".");
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${(fraction + "00").slice(0, 2)}`;
}

export function describe(campaign: CampaignProgressFieldsFragment): string {
  const total: string = campaign.progress.total.amount;
  const goal: string | undefined = campaign.goal?.amount;
  const count: number = campaign.progress.donationCount;
  return `${campaign.name}: ¥${yuan(total)}${goal ? ` / ¥${yuan(goal)}` : ""} (${count})`;
}

export async function showCampaign(client: ApolloClient, id: string): Promise<string | null> {
  const { data } = await client.query({ query: CampaignDocument, variables: { id } });
  const node = data?.node;
  return node && node.__typename === "Campaign" ? describe(node) : null;
}

/** Follows the campaign: each emission updates Campaign:{id} in the cache, and `render`. */
export function followCampaign(
  client: ApolloClient,
  id: string,
  render: (line: string) => void,
): () => void {
  const subscription = client
    .subscribe({ query: CampaignUpdatedDocument, variables: { id } })
    .subscribe(({ data }) => {
      if (data) render(describe(data.campaignUpdated));
    });
  return () => subscription.unsubscribe();
}

export async function give(
  client: ApolloClient,
  input: RecordDonationInput,
): Promise<{ id: string; receivedAt: string } | string> {
  const { data } = await client.mutate({ mutation: RecordDonationDocument, variables: { input } });
  const payload = data?.recordDonation;
  if (!payload?.donation) return payload?.errors.map((e) => `${e.code} ${e.field?.join(".")}`).join("; ") ?? "";
  return { id: payload.donation.id, receivedAt: payload.donation.receivedAt };
}

export function cashGift(fundId: string, campaignId: string, amount: string): RecordDonationInput {
  return {
    fundId,
    campaignId,
    channel: "CASH",
    amount: { amount, currency: "CNY" },
    anonymous: true,
    idempotencyKey: crypto.randomUUID(),
  };
}

// Amounts are strings: a JSON number does not compile (the server refuses it too).
// @ts-expect-error number is not assignable to string
export const wrong: RecordDonationInput["amount"] = { amount: 100, currency: "CNY" };

export function start(api: string, root: HTMLElement): ApolloClient {
  const session: Session = { token: null };
  const client = makeClient(api, session);
  const params = new URLSearchParams(location.search);
  const campaign = params.get("campaign");
  if (campaign) followCampaign(client, campaign, (line) => (root.textContent = line));
  return client;
}
