"""保障对象台账: one list of entitlements per benefit category with filters, sort and Excel export."""
