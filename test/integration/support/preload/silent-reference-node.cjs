// TEST FIXTURE (NODE_OPTIONS=--require …): a reference node that starts but never prints its
// listening line, as a node that never becomes ready looks to the harness. Every other node
// process (the wsbench CLI itself, load workers) is left alone.
if (/reference-server[\\/]main\.js$/.test(process.argv[1] ?? '')) {
  process.stdout.write = () => true;
}
