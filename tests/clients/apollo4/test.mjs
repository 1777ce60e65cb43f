// Apollo Client 4 against the real server: node apollo4/test.mjs http://HOST/graphql
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import * as apollo from '@apollo/client';
import { apolloScenario } from '../apollo-scenario.mjs';
import * as snippet from './snippet.mjs';

// Apollo's warnings in full (they are what the checks look for).
loadDevMessages();
loadErrorMessages();
await apolloScenario({ suite: 'Apollo Client 4', url: process.argv[2], apollo, snippet });
