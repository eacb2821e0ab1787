package sc.fiji.sd.cli;

import java.util.Iterator;

import sc.fiji.sd.scheduler.Schedulers;

/** The sampler names for {@code --scheduler}'s help and shell completion: the core's registry, never a copy. */
final class SamplerNames implements Iterable<String> {

	@Override
	public Iterator<String> iterator() {
		return Schedulers.names().iterator();
	}
}
