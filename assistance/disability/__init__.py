"""残疾人两项补贴 (国发〔2015〕52号): 困难残疾人生活补贴 and 重度残疾人护理补贴 — the application flow and the
monthly comparison of recipients against the registry (应补尽补、应退尽退)."""
