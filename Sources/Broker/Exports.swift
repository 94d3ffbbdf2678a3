// The message and topology types are Broker's vocabulary: whoever imports Broker gets them, as
// before they moved to the C-free Messaging target that Contracts shares.
@_exported public import Messaging
