-- What every end-to-end script in the real Neovim starts with (tests/editors/neovim.sh runs them): `check`,
-- whose failure names the script and quits with status 1, and podsec's shipped config (editors/neovim) on
-- the binary under test (PODSEC_BIN), the repository being PODSEC_REPO.
--   local check = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim e2e')

return function(name)
  local function fail(message)
    io.stderr:write(name .. ': FAIL: ' .. message .. '\n')
    vim.cmd('cquit 1')
  end

  local function check(condition, message)
    if not condition then fail(message) end
  end

  local repo = assert(vim.env.PODSEC_REPO, 'PODSEC_REPO')
  local binary = assert(vim.env.PODSEC_BIN, 'PODSEC_BIN')
  vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
  vim.lsp.config('podsec', { cmd = { binary, 'lsp' } })
  vim.lsp.enable('podsec')
  return check
end
