// Copying text from the UI: the Clipboard API, else (plain http on another host, where the API is
// missing or refused) a select-and-copy through a temporary textarea.

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}
