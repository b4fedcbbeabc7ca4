// Gantt webview entry (placeholder).
