/** A bad argument to an inspector function (an unknown record name, a record number past the end…): the CLI's exit status 2. */
export class InspectArgumentError extends Error {
  override readonly name = 'InspectArgumentError';
}
