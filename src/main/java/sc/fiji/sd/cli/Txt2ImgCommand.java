package sc.fiji.sd.cli;

import picocli.CommandLine.Command;
import sc.fiji.sd.pipeline.GenerationRequest;

@Command(name = "txt2img", description = "Text to image.", sortOptions = false)
class Txt2ImgCommand extends GenerationCommand {

	@Override
	GenerationRequest.Mode mode() {
		return GenerationRequest.Mode.TEXT_TO_IMAGE;
	}

	@Override
	GenerationRequest.Builder prepare(GenerationRequest.Builder builder) {
		return builder;
	}
}
