"""``--model auto``: several candidates on one split, judged on voices they did not train
on, the best neural and classical one kept together."""
