// Unit tests may mock SDK clients (aws-sdk-client-mock); these matchers make the assertions readable.
import 'aws-sdk-client-mock-vitest/extend';
