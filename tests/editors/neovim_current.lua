-- End-to-end test in a real headless Neovim (>= 0.11) with the shipped config, run by
-- tests/editors/neovim.sh on a monorepo: the workspace is rooted at `.git`, not at the team's
-- .podsec.yaml, so a Namespace in another folder sets the team's policy; changes made outside the editor
-- (a Namespace rewritten as `git checkout` would, `rm .podsec.yaml`) reach the server through file
-- watching; code lenses come with vim.lsp.codelens.refresh() (0.11) or enable() (0.12).

local check, lenses = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim current e2e')
local monorepo = assert(vim.env.PODSEC_MONOREPO, 'PODSEC_MONOREPO')
local team = monorepo .. '/teams/payments'

vim.cmd.edit(team .. '/deploy.yaml')
local deploy = vim.api.nvim_get_current_buf()
local W, E = vim.diagnostic.severity.WARN, vim.diagnostic.severity.ERROR

local function severity(buf, code)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'podsec' and d.code == code then return d.severity end
  end
  return nil
end

-- platform/namespaces.yaml: enforce baseline, warn restricted.
check(vim.wait(20000, function() return severity(deploy, 'runAsNonRoot') == W end, 50),
  'warn: restricted from platform/namespaces.yaml, got ' .. tostring(severity(deploy, 'runAsNonRoot')))
local client = vim.lsp.get_clients({ bufnr = deploy, name = 'podsec' })[1]
check(client ~= nil, 'podsec is not attached')
check(client.root_dir == monorepo, 'workspace root ' .. tostring(client.root_dir) .. ', not ' .. monorepo)
local watching = vim.tbl_get(client.capabilities, 'workspace', 'didChangeWatchedFiles', 'dynamicRegistration')
check(watching == true, 'the shipped config does not turn on file watching')
print('rooted at the repository; the Namespace in platform/ sets the policy of teams/payments')

-- Lenses: the policy of each object, after a refresh.
lenses.enable(deploy)
check(vim.wait(20000, function() return #lenses.get(deploy) > 0 end, 50), 'no code lens')
local title = lenses.get(deploy)[1].command.title
check(title:find('baseline', 1, true) ~= nil, 'lens: ' .. title)
print('lens: ' .. title)

-- The Namespace file rewritten outside the editor (as `git checkout` does): enforce restricted.
local started = vim.uv.hrtime()
local path = monorepo .. '/platform/namespaces.yaml'
local text = table.concat(vim.fn.readfile(path), '\n'):gsub('enforce: baseline', 'enforce: restricted')
vim.fn.writefile(vim.split(text, '\n'), path)
check(vim.wait(20000, function() return severity(deploy, 'runAsNonRoot') == E end, 50),
  'enforce: restricted from the file changed on disk, got ' .. tostring(severity(deploy, 'runAsNonRoot')))
print(string.format('Namespace changed on disk: seen in %d ms', (vim.uv.hrtime() - started) / 1e6))

-- A workload without a namespace takes the team's .podsec.yaml (baseline); removed: the default
-- (restricted).
vim.cmd.edit(team .. '/job.yaml')
local job = vim.api.nvim_get_current_buf()
check(vim.wait(20000, function()
  return #vim.diagnostic.get(job) == 0 and vim.lsp.get_clients({ bufnr = job, name = 'podsec' })[1] ~= nil
end, 50), 'level: baseline from .podsec.yaml')
vim.wait(1000)
check(severity(job, 'runAsNonRoot') == nil, 'level: baseline from .podsec.yaml, got ' .. tostring(severity(job, 'runAsNonRoot')))
started = vim.uv.hrtime()
os.remove(team .. '/.podsec.yaml')
check(vim.wait(20000, function() return severity(job, 'runAsNonRoot') == E end, 50),
  'the default policy (restricted) after rm .podsec.yaml, got ' .. tostring(severity(job, 'runAsNonRoot')))
print(string.format('rm .podsec.yaml: seen in %d ms', (vim.uv.hrtime() - started) / 1e6))
print('neovim current e2e: OK (' .. tostring(vim.version()):match('^[%d.]+') .. ')')
vim.cmd('qa!')
