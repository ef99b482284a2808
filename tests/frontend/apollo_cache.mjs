// Apollo Client 4 against a running Jinlin server, as a browser app would use it: HTTP for
// queries, graphql-ws for subscriptions, one normalised InMemoryCache. Prints one JSON line
// per step for tests/frontend/test_apollo_cache.py, which records a donation in between.
//   API=http://127.0.0.1:PORT/graphql TOKEN=… CAMPAIGN=<global id> node apollo_cache.mjs
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const { API, TOKEN, CAMPAIGN } = process.env;
const auth = { Authorization: `Bearer ${TOKEN}` };
const say = (event, data = {}) => console.log(JSON.stringify({ event, ...data }));

const CAMPAIGN_QUERY = gql`
  query Campaign($id: ID!) {
    node(id: $id) { ... on Campaign { id name progress { total { amount } donationCount } } }
  }`;
const UPDATES = gql`
  subscription CampaignUpdated($id: ID!) {
    campaignUpdated(campaignId: $id) { id progress { total { amount } donationCount } }
  }`;

const ws = createClient({ url: API.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: auth });
const isSubscription = ({ query }) => {
  const def = getMainDefinition(query);
  return def.kind === "OperationDefinition" && def.operation === "subscription";
};
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), new HttpLink({ uri: API, headers: auth })),
});

const progressOf = (data) => data.node.progress;
const first = await client.query({ query: CAMPAIGN_QUERY, variables: { id: CAMPAIGN } });
const cache = client.cache.extract();
say("cached", {
  keys: Object.keys(cache).filter((k) => k !== "ROOT_QUERY"),
  nodeRef: Object.values(cache.ROOT_QUERY).find((v) => v && v.__ref)?.__ref ?? null,
  total: progressOf(first.data).total.amount,
  count: progressOf(first.data).donationCount,
});

// A view of the campaign that only ever reads the cache: it must follow the subscription.
const seen = [];
const watched = client
  .watchQuery({ query: CAMPAIGN_QUERY, variables: { id: CAMPAIGN }, fetchPolicy: "cache-only" })
  .subscribe(({ data }) => data?.node && seen.push(progressOf(data).total.amount));

let emissions = 0;
const updates = client.subscribe({ query: UPDATES, variables: { id: CAMPAIGN } }).subscribe({
  next: ({ data }) => {
    emissions += 1;
    if (emissions === 1) say("subscribed", { total: data.campaignUpdated.progress.total.amount });
  },
  error: (error) => { say("error", { message: String(error) }); process.exit(1); },
});

const deadline = Date.now() + 15000;
const want = process.env.EXPECT_COUNT ? Number(process.env.EXPECT_COUNT) : null;
await new Promise((resolve) => {
  const poll = setInterval(() => {
    const now = client.readQuery({ query: CAMPAIGN_QUERY, variables: { id: CAMPAIGN } });
    if ((want !== null && progressOf(now).donationCount >= want) || Date.now() > deadline) {
      clearInterval(poll);
      say("updated", { total: progressOf(now).total.amount, count: progressOf(now).donationCount, seen, emissions });
      resolve();
    }
  }, 50);
});
updates.unsubscribe();
watched.unsubscribe();
await ws.dispose();
process.exit(0);
