"""The fraud model: features shared by training and the payment path (`features`), the
labelled history format (`history`), training and evaluation against today's rules
(`training`, `rules_replay`, `metrics`), the model file (`model`, `files`), reasons in
words (`reasons`) and the hook into the risk engine (`hook`). docs/RISK.md tells how to
use it. LightGBM is imported only where a model is trained or loaded."""
