"""The advisors' WeCom 「联系我」 links: signed states, creation and reuse within WeCom's quota, and the
attribution of the friend-adds they bring (outcome `wecom_added`, the lead, the welcome message)."""
