/** Show a server's message as a sentence: capital first letter, closing punctuation. */
export function asSentence(message: string): string {
  const text = message.trim();
  if (text === "") {
    return "";
  }
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
