-- End-to-end test in a real headless Neovim (>= 0.11, which offers no file watching on Linux), run by
-- tests/editors/neovim.sh: a Deployment's severities follow its Namespace's label when the Namespace
-- file is edited, saved and closed in the editor, and stay right after it is closed.

local check = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim policy e2e')
local workspace = assert(vim.env.PODSEC_WORKSPACE, 'PODSEC_WORKSPACE')

vim.cmd.edit(workspace .. '/deploy.yaml')
local deploy = vim.api.nvim_get_current_buf()

-- The severity of the runAsNonRoot finding on the Deployment tells which policy holds.
local function run_as_non_root()
  for _, d in ipairs(vim.diagnostic.get(deploy)) do
    if d.source == 'podsec' and d.code == 'runAsNonRoot' then return d.severity end
  end
  return nil
end

local W, E = vim.diagnostic.severity.WARN, vim.diagnostic.severity.ERROR
check(vim.wait(20000, function() return run_as_non_root() == W end, 50),
  'warn: restricted from the closed namespace.yaml, got ' .. tostring(run_as_non_root()))
local client = vim.lsp.get_clients({ bufnr = deploy, name = 'podsec' })[1]
check(client ~= nil, 'podsec is not attached')
local watching = vim.tbl_get(client.capabilities, 'workspace', 'didChangeWatchedFiles', 'dynamicRegistration')
print('podsec attached; client file watching: ' .. tostring(watching))

-- Edit the Namespace in the editor: enforce becomes restricted while it is open and unsaved.
vim.cmd.edit(workspace .. '/namespace.yaml')
local namespace = vim.api.nvim_get_current_buf()
local lines = vim.api.nvim_buf_get_lines(namespace, 0, -1, true)
for i, line in ipairs(lines) do
  if line:find('enforce: baseline', 1, true) then
    vim.api.nvim_buf_set_lines(namespace, i - 1, i, true, { (line:gsub('baseline', 'restricted')) })
  end
end
check(vim.wait(20000, function() return run_as_non_root() == E end, 50),
  'enforce: restricted from the open buffer, got ' .. tostring(run_as_non_root()))
print('open, unsaved Namespace: runAsNonRoot is an error')

-- Save and close it: the file on disk holds, also at the next edit of the Deployment.
vim.cmd('write')
vim.cmd('bdelete ' .. namespace)
vim.api.nvim_set_current_buf(deploy)
vim.api.nvim_buf_set_lines(deploy, -1, -1, true, { '# edited' })
vim.wait(300)
check(vim.wait(20000, function() return run_as_non_root() == E end, 50),
  'enforce: restricted after save and close, got ' .. tostring(run_as_non_root()))
print('saved and closed Namespace: runAsNonRoot is still an error')

-- Reopen, undo the label without saving, close: the file on disk (restricted) holds again.
vim.cmd.edit(workspace .. '/namespace.yaml')
namespace = vim.api.nvim_get_current_buf()
lines = vim.api.nvim_buf_get_lines(namespace, 0, -1, true)
for i, line in ipairs(lines) do
  if line:find('enforce: restricted', 1, true) then
    vim.api.nvim_buf_set_lines(namespace, i - 1, i, true, { (line:gsub('restricted', 'baseline')) })
  end
end
check(vim.wait(20000, function() return run_as_non_root() == W end, 50),
  'enforce: baseline from the edited buffer, got ' .. tostring(run_as_non_root()))
vim.cmd('bdelete! ' .. namespace)
check(vim.wait(20000, function() return run_as_non_root() == E end, 50),
  'enforce: restricted from disk after closing unsaved, got ' .. tostring(run_as_non_root()))
print('neovim policy e2e: OK (' .. tostring(vim.version()):match('^[%d.]+') .. ')')
vim.cmd('qa!')
