// Apollo Client 3 against the real server: node apollo3.mjs http://HOST/graphql
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev/index.js';
import * as apollo from '@apollo/client/core/index.js';
import { apolloScenario } from './apollo-scenario.mjs';
import * as snippet from './snippets/apollo3.mjs';

// Apollo's warnings in full (they are what the checks look for).
loadDevMessages();
loadErrorMessages();
await apolloScenario({ suite: 'Apollo Client 3', url: process.argv[2], apollo, snippet });
