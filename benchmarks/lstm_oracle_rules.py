"""Choice rules among the LSTM candidates, scored on benchmarks/lstm_oracle.py's lines: the
choice `auto` made (`auto`), the default network alone whatever the backtests say (`fixed
default`: the calendar network where the dates name the season, else LSTM(d=1)), the best in
hindsight (`oracle`, not a rule: what a perfect choice would give), the lowest backtest MASE
among single networks, the default unless another beats it on the backtests by a margin, and
means of candidates. Prints each rule's mean and median MASE on the held-out points per set.

Usage: python benchmarks/lstm_oracle_rules.py lstm_oracle/o3_*.jsonl
"""
import json, sys, re, numpy as np
def load(f): return [json.loads(l) for l in open(f)]
def mase(r, fc): return float(np.mean(np.abs(np.asarray(r['actual'])-np.asarray(fc)))/r['train_scale'])
def is_cal(n): return bool(re.match(r'LSTM\(d=1,lags=\d+,(month|quarter|dayofweek)\)$', n))
def default_of(r, names):
    cal=[n for n in names if is_cal(n)]
    if cal: return cal[0]
    plain=[n for n in names if re.match(r'LSTM\(d=1,lags=\d+\)$', n)]
    return plain[0] if plain else None
def finite(v): return v is not None and np.isfinite(v)
def rules(r):
    out={'auto': mase(r, r['auto'])}
    fin={n: mase(r,f) for n,f in r['final'].items()}
    b=r['board']
    bt={n:b[n] for n in fin if finite(b.get(n))}   # backtested singles
    d_any=default_of(r, list(fin))
    d_bt=default_of(r, list(bt))
    out['fixed default (even untested)']=fin[d_any] if d_any else out['auto']
    out['fixed default among backtested']=fin[d_bt] if d_bt else out['auto']
    out['oracle']=min(fin.values())
    best=min(bt,key=bt.get) if bt else None
    out['best single']=fin[best] if best else out['auto']
    for x in (0.1,0.2,0.3,0.5):
        if best is None: out[f'default unless beaten {int(x*100)}%']=out['auto']; continue
        pick = best if (d_bt is None or bt[best] < (1-x)*bt[d_bt]) else d_bt
        out[f'default unless beaten {int(x*100)}%']=fin[pick]
    out['mean of backtested']=mase(r, np.mean([r['final'][n] for n in bt],axis=0)) if bt else out['auto']
    if bt:
        top=sorted(bt,key=bt.get)[:3]
        out['mean top3 backtested']=mase(r, np.mean([r['final'][n] for n in top],axis=0))
    else: out['mean top3 backtested']=out['auto']
    out['_has_default_bt']=d_bt is not None and d_bt==d_any
    return out
for f in sys.argv[1:]:
    rows=load(f); res=[rules(r) for r in rows]
    print(f, len(rows), 'default backtested on', sum(x['_has_default_bt'] for x in res))
    for k in res[0]:
        if k.startswith('_'): continue
        print(f"   {k:32s} {np.mean([x[k] for x in res]):.3f}  median {np.median([x[k] for x in res]):.3f}")
