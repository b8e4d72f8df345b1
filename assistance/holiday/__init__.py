"""节日一次性生活补贴: the holiday one-off payment to every active 低保 household and 特困 person (seed 002:
元旦、春节), paid as a one-off PaymentRun, not a monthly entitlement."""
