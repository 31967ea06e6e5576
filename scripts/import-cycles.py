#!/usr/bin/env python3
# Lists the import circles among the modules of src/ (strongly connected components of the
# `crate::` / `super::` references outside comments and test modules), biggest last.
# Run from the repository root: python3 scripts/import-cycles.py
import re,os,sys,glob
root='src'
files=[f for f in glob.glob('src/**/*.rs',recursive=True)]
def modpath(f):
    p=f[4:-3]
    if p.endswith('/mod'): p=p[:-4]
    if p in ('lib','main'): return 'crate'
    return 'crate::'+p.replace('/','::')
mods={modpath(f):f for f in files}
def resolve(path):
    parts=path.split('::')
    while parts:
        cand='::'.join(parts)
        if cand in mods: return cand
        parts=parts[:-1]
    return None
edges={m:set() for m in mods}
for m,f in mods.items():
    s=open(f).read()
    s=re.sub(r'//[^\n]*', '', s)
    s=re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', s, flags=re.S)
    for mm in re.finditer(r'crate::([A-Za-z_:]*)\{([^}]*)\}', s):
        for item in mm.group(2).split(','):
            item=item.strip().split(' ')[0]
            if not item: continue
            t=resolve('crate::'+mm.group(1)+item)
            if t and t!=m: edges[m].add(t)
    for mm in re.finditer(r'crate::([A-Za-z_:]+)', s):
        t=resolve('crate::'+mm.group(1))
        if t and t!=m: edges[m].add(t)
    for mm in re.finditer(r'super::([A-Za-z_:]+)', s):
        base=m.rsplit('::',1)[0] if not f.endswith('mod.rs') else m
        parent=base.rsplit('::',1)[0] if f.endswith('mod.rs') else base
        t=resolve(parent+'::'+mm.group(1))
        if t and t!=m: edges[m].add(t)
# Tarjan
idx={};low={};st=[];on=set();res=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        res.append(comp)
for v in edges:
    if v not in idx: sc(v)
big=[sorted(c) for c in res if len(c)>1]
for c in big: print(len(c), c)
